"""agentgym/Walker2d-v0: Gymnasium's Walker2d-v5, with a task to succeed at.

## Description
The planar two-legged walker of Gymnasium's `Walker2d-v5` (torso and two legs of thigh,
leg and foot; 6 actuated joints) walks forward. The Gymnasium env runs inside this one unchanged
(observation, action, dynamics, reward, termination); agentgym adds a success criterion
and a named state for reward designers.

## Action space
`Box(-1, 1, (6,), float32)`: torques of right thigh, leg, foot, then left thigh, leg, foot.

## Observation space
Gymnasium's: `Box(-inf, inf, (17,), float64)`: root z, root angle, 6 joint angles, then
9 velocities clipped to [-10, 10].

## Reward state (`info["reward_state"]`)
| name | shape | units | meaning |
|---|---|---|---|
| `x_position` | () | m | torso x position |
| `forward_velocity` | () | m/s | torso x velocity over the last step |
| `torso_height` | () | m | root z coordinate |
| `torso_angle` | () | rad | torso pitch (0 is upright) |
| `torso_velocity` | (3,) | m/s, rad/s | root x, z and pitch velocities (not clipped) |
| `joint_pos` | (6,) | rad | right thigh, leg, foot, left thigh, leg, foot angles |
| `joint_vel` | (6,) | rad/s | their angular velocities (not clipped) |

## Rewards (the human reward, also `reward_designers/library/walker2d.py`)
Gymnasium's, by component: `forward` = forward velocity; `ctrl` = -0.001 |a|^2;
`survive` = 1 while healthy (0.8 < torso height < 2, |torso angle| < 1).

## Success
The forward velocity averaged over the last 2 s of simulation (250 steps) is at least
1 m/s.

## Fitness
Forward progress: the root's x displacement (m) since reset (`info["fitness"]`).

## Episode end
Terminated when unhealthy (Gymnasium's rule); truncated after 1000 steps.

## Vector env
`gym.make_vec("agentgym/Walker2d-v0", num_envs=N)` returns `Walker2dVectorEnv`: the N envs in one
object (N MjData stepped by MuJoCo on a thread pool), equal to a `SyncVectorEnv` of this env step by step
(`vectorization_mode="sync"` still gives that).

## Version history
- v0: first release (Gymnasium Walker2d-v5 inside).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.envs.robotics.locomotion import (
    FORWARD_FITNESS,
    ForwardLocomotionTask,
    PlanarHealthyVectorEnv,
    planar_state,
)
from agentgym.spec import StateVar, TaskSpec


class Walker2dEnv(ForwardLocomotionTask):
    gym_class = "gymnasium.envs.mujoco.walker2d_v5:Walker2dEnv"
    target_speed = 1.0
    task_spec = TaskSpec(
        name="Walker2d",
        instruction="Make the two-legged walker walk forward (along +x) without falling over.",
        success="The forward velocity averaged over the last 2 s is at least 1 m/s.",
        fitness=FORWARD_FITNESS,
        termination="failure",
        action_meaning="6 floats in [-1, 1]: torques of right thigh, leg, foot, left thigh, leg, foot.",
        family="robotics",
        robot="Walker2d",
        tags=("locomotion", "walk", "biped", "planar", "mujoco", "forward", "balance"),
        state=(
            StateVar("x_position", (), "float32", "m", "torso x position"),
            StateVar(
                "forward_velocity",
                (),
                "float32",
                "m/s",
                "torso velocity along +x over the last step",
            ),
            StateVar(
                "torso_height", (), "float32", "m", "torso (root) z coordinate; about 1.25 standing"
            ),
            StateVar("torso_angle", (), "float32", "rad", "torso pitch angle, 0 when upright"),
            StateVar(
                "torso_velocity", (3,), "float32", "m/s, rad/s", "root x, z and pitch velocities"
            ),
            StateVar(
                "joint_pos",
                (6,),
                "float32",
                "rad",
                "right thigh, leg, foot, left thigh, leg, foot angles",
            ),
            StateVar("joint_vel", (6,), "float32", "rad/s", "angular velocities, same order"),
        ),
    )

    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        return planar_state(self.data.qpos, self.data.qvel, info["x_velocity"])


class Walker2dVectorEnv(PlanarHealthyVectorEnv):
    """agentgym/Walker2d-v0, natively batched: ``gym.make_vec("agentgym/Walker2d-v0", num_envs=N)``.
    Equal to a ``SyncVectorEnv`` of ``Walker2dEnv`` step by step."""

    task_env = Walker2dEnv

    def _healthy(self, f: dict[str, np.ndarray]) -> np.ndarray:
        p, qpos = self.params, f["qpos"]
        z, angle = qpos[:, 1], qpos[:, 2]
        min_z, max_z = p["healthy_z_range"]
        min_angle, max_angle = p["healthy_angle_range"]
        return (min_z < z) & (z < max_z) & (min_angle < angle) & (angle < max_angle)
