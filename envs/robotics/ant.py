"""agentgym/Ant-v0: Gymnasium's Ant-v5, with a task to succeed at.

## Description
The quadruped ant of Gymnasium's `Ant-v5` (a torso with four legs of two links each, 8
actuated joints) walks forward. The Gymnasium env runs inside this one unchanged
(observation, action, dynamics, reward, termination); agentgym adds a success criterion
and a named state for reward designers.

## Action space
`Box(-1, 1, (8,), float32)`: hip and ankle torques of the four legs.

## Observation space
Gymnasium's: `Box(-inf, inf, (105,), float64)`: torso z, orientation and joint angles
(13), velocities (14), clipped external contact forces of the 13 bodies (78).

## Reward state (`info["reward_state"]`)
| name | shape | units | meaning |
|---|---|---|---|
| `xy_position` | (2,) | m | torso x, y position |
| `forward_velocity` | () | m/s | torso x velocity over the last step |
| `lateral_velocity` | () | m/s | torso y velocity over the last step |
| `torso_height` | () | m | torso z coordinate |
| `torso_orientation` | (4,) | - | torso quaternion (w, x, y, z) |
| `torso_velocity` | (6,) | m/s, rad/s | torso linear and angular velocity |
| `joint_pos` | (8,) | rad | hip and ankle angles, in action order |
| `joint_vel` | (8,) | rad/s | their angular velocities |
| `contact_forces` | (13, 6) | N, N m | external contact force and torque on each body, clipped to [-1, 1] |

## Rewards (the human reward, also `reward_designers/library/ant.py`)
Gymnasium's, by component: `forward` = forward velocity; `ctrl` = -0.5 |a|^2;
`contact` = -5e-4 |contact_forces|^2; `survive` = 1 while healthy (all state finite and
0.2 <= torso height <= 1).

## Success
The forward velocity averaged over the last 2 s of simulation (40 steps) is at least
1 m/s.

## Fitness
Forward progress: the root's x displacement (m) since reset (`info["fitness"]`).

## Episode end
Terminated when unhealthy (Gymnasium's rule); truncated after 1000 steps.

## Vector env
`gym.make_vec("agentgym/Ant-v0", num_envs=N)` returns `AntVectorEnv`: the N envs in one
object (N MjData stepped by MuJoCo on a thread pool), equal to a `SyncVectorEnv` of this env step by step
(`vectorization_mode="sync"` still gives that).

## Version history
- v0: first release (Gymnasium Ant-v5 inside).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.envs.robotics.locomotion import (
    FORWARD_FITNESS,
    ForwardLocomotionTask,
    LocomotionVectorEnv,
    control_cost,
    f32,
)
from agentgym.spec import StateVar, TaskSpec


class AntEnv(ForwardLocomotionTask):
    gym_class = "gymnasium.envs.mujoco.ant_v5:AntEnv"
    target_speed = 1.0
    task_spec = TaskSpec(
        name="Ant",
        instruction="Make the four-legged ant walk forward (along +x) without flipping over.",
        success="The forward velocity averaged over the last 2 s is at least 1 m/s.",
        fitness=FORWARD_FITNESS,
        termination="failure",
        action_meaning="8 floats in [-1, 1]: hip and ankle torques of the four legs.",
        family="robotics",
        robot="Ant",
        tags=("locomotion", "walk", "quadruped", "mujoco", "forward"),
        state=(
            StateVar("xy_position", (2,), "float32", "m", "torso x, y position"),
            StateVar(
                "forward_velocity",
                (),
                "float32",
                "m/s",
                "torso velocity along +x over the last step",
            ),
            StateVar(
                "lateral_velocity",
                (),
                "float32",
                "m/s",
                "torso velocity along +y over the last step",
            ),
            StateVar("torso_height", (), "float32", "m", "torso z coordinate; about 0.55 standing"),
            StateVar(
                "torso_orientation",
                (4,),
                "float32",
                "-",
                "torso orientation quaternion (w, x, y, z)",
            ),
            StateVar(
                "torso_velocity",
                (6,),
                "float32",
                "m/s, rad/s",
                "torso linear (3) and angular (3) velocity",
            ),
            StateVar("joint_pos", (8,), "float32", "rad", "hip and ankle angles of the four legs"),
            StateVar("joint_vel", (8,), "float32", "rad/s", "hip and ankle angular velocities"),
            StateVar(
                "contact_forces",
                (13, 6),
                "float32",
                "N, N*m",
                "external contact torque (3) and force (3) on each of the 13 bodies, clipped to [-1, 1]",
            ),
        ),
    )

    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        return ant_state(
            self.data.qpos,
            self.data.qvel,
            info["x_velocity"],
            info["y_velocity"],
            self.inner.contact_forces[1:],
        )


def ant_state(
    qpos: np.ndarray,
    qvel: np.ndarray,
    x_velocity: Any,
    y_velocity: Any,
    contact_forces: np.ndarray,
) -> dict[str, np.ndarray]:
    """The Ant's reward_state, for one env ([nq]) or a batch ([N, nq]); ``contact_forces``
    are Gymnasium's clipped ``cfrc_ext`` without the world body ([..., 13, 6])."""
    return {
        "xy_position": f32(qpos[..., :2]),
        "forward_velocity": f32(x_velocity),
        "lateral_velocity": f32(y_velocity),
        "torso_height": f32(qpos[..., 2]),
        "torso_orientation": f32(qpos[..., 3:7]),
        "torso_velocity": f32(qvel[..., :6]),
        "joint_pos": f32(qpos[..., 7:]),
        "joint_vel": f32(qvel[..., 6:]),
        "contact_forces": f32(contact_forces),
    }


class AntVectorEnv(LocomotionVectorEnv):
    """agentgym/Ant-v0, natively batched: ``gym.make_vec("agentgym/Ant-v0", num_envs=N)``.
    Equal to a ``SyncVectorEnv`` of ``AntEnv`` step by step."""

    task_env = AntEnv
    fields = ("qpos", "qvel", "cfrc_ext", "xpos")
    velocity_noise = "normal"
    mjx_unsupported = (
        "MJX's contact forces (cfrc_ext, in Ant's observation and contact cost) differ from "
        "MuJoCo's: rewards 0.03-0.5 apart from the first step (mujoco-mjx 3.3.0, 2026-12-06)"
    )

    def _position_of(self, f: dict[str, np.ndarray]) -> np.ndarray:
        main_body = self.params["main_body"]
        if isinstance(main_body, str):
            main_body = self.model.body(main_body).id
        return f["xpos"][:, main_body, :2].copy()

    def _contact_forces(self, f: dict[str, np.ndarray]) -> np.ndarray:
        return np.clip(f["cfrc_ext"], *self.params["contact_force_range"])

    def _observe(self, f: dict[str, np.ndarray]) -> np.ndarray:
        p = self.params
        qpos = f["qpos"][:, 2:] if p["exclude_current_positions_from_observation"] else f["qpos"]
        parts = [qpos, f["qvel"]]
        if p["include_cfrc_ext_in_observation"]:
            parts.append(self._contact_forces(f)[:, 1:].reshape(self.num_envs, -1))
        return np.concatenate(parts, axis=1)

    def _reward(self, actions, f, velocity):
        p = self.params
        n = self.num_envs
        qpos = f["qpos"]
        min_z, max_z = p["healthy_z_range"]
        state = np.concatenate((qpos, f["qvel"]), axis=1)
        healthy = np.isfinite(state).all(axis=1) & (min_z <= qpos[:, 2]) & (qpos[:, 2] <= max_z)
        forward = velocity[:, 0] * p["forward_reward_weight"]
        healthy_reward = healthy * p["healthy_reward"]
        ctrl_cost = control_cost(p["ctrl_cost_weight"], actions)
        contact = np.square(self._contact_forces(f)).reshape(n, -1)
        contact_cost = p["contact_cost_weight"] * np.sum(contact, axis=1)
        reward = forward + healthy_reward - (ctrl_cost + contact_cost)
        terminated = ~healthy & bool(p["terminate_when_unhealthy"])
        terms = {
            "forward": forward,
            "ctrl": -ctrl_cost,
            "contact": -contact_cost,
            "survive": healthy_reward,
        }
        return reward, terms, terminated

    def _state(self, f: dict[str, np.ndarray], velocity: np.ndarray) -> dict[str, np.ndarray]:
        return ant_state(
            f["qpos"], f["qvel"], velocity[:, 0], velocity[:, 1], self._contact_forces(f)[:, 1:]
        )
