"""agentgym/Hopper-v0: Gymnasium's Hopper-v5, with a task to succeed at.

## Description
The planar one-legged hopper of Gymnasium's `Hopper-v5` (torso, thigh, leg, foot; 3
actuated joints) hops forward. The Gymnasium env runs inside this one unchanged
(observation, action, dynamics, reward, termination); agentgym adds a success criterion
and a named state for reward designers.

## Action space
`Box(-1, 1, (3,), float32)`: torques of thigh, leg and foot joints.

## Observation space
Gymnasium's: `Box(-inf, inf, (11,), float64)`: root z, root angle, 3 joint angles, then
6 velocities clipped to [-10, 10].

## Reward state (`info["reward_state"]`)
| name | shape | units | meaning |
|---|---|---|---|
| `x_position` | () | m | torso x position |
| `forward_velocity` | () | m/s | torso x velocity over the last step |
| `torso_height` | () | m | root z coordinate |
| `torso_angle` | () | rad | torso pitch (0 is upright) |
| `torso_velocity` | (3,) | m/s, rad/s | root x, z and pitch velocities (not clipped) |
| `joint_pos` | (3,) | rad | thigh, leg, foot angles |
| `joint_vel` | (3,) | rad/s | their angular velocities (not clipped) |

## Rewards (the human reward, also `reward_designers/library/hopper.py`)
Gymnasium's, by component: `forward` = forward velocity; `ctrl` = -0.001 |a|^2;
`survive` = 1 while healthy (torso height > 0.7, |torso angle| < 0.2, every other
state value in (-100, 100)).

## Success
The forward velocity averaged over the last 2 s of simulation (250 steps) is at least
1 m/s.

## Fitness
Forward progress: the root's x displacement (m) since reset (`info["fitness"]`).

## Episode end
Terminated when unhealthy (Gymnasium's rule); truncated after 1000 steps.

## Vector env
`gym.make_vec("agentgym/Hopper-v0", num_envs=N)` returns `HopperVectorEnv`: the N envs in one
object (N MjData stepped by MuJoCo on a thread pool), equal to a `SyncVectorEnv` of this env step by step
(`vectorization_mode="sync"` still gives that).

## Version history
- v0: first release (Gymnasium Hopper-v5 inside).
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


class HopperEnv(ForwardLocomotionTask):
    gym_class = "gymnasium.envs.mujoco.hopper_v5:HopperEnv"
    target_speed = 1.0
    task_spec = TaskSpec(
        name="Hopper",
        instruction="Make the one-legged hopper hop forward (along +x) without falling over.",
        success="The forward velocity averaged over the last 2 s is at least 1 m/s.",
        fitness=FORWARD_FITNESS,
        termination="failure",
        action_meaning="3 floats in [-1, 1]: torques of the thigh, leg and foot joints.",
        family="robotics",
        robot="Hopper",
        tags=("locomotion", "hop", "planar", "mujoco", "forward", "balance"),
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
            StateVar("joint_pos", (3,), "float32", "rad", "thigh, leg and foot joint angles"),
            StateVar(
                "joint_vel", (3,), "float32", "rad/s", "thigh, leg and foot angular velocities"
            ),
        ),
    )

    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        return planar_state(self.data.qpos, self.data.qvel, info["x_velocity"])


class HopperVectorEnv(PlanarHealthyVectorEnv):
    """agentgym/Hopper-v0, natively batched: ``gym.make_vec("agentgym/Hopper-v0", num_envs=N)``.
    Equal to a ``SyncVectorEnv`` of ``HopperEnv`` step by step."""

    task_env = HopperEnv

    def _healthy(self, f: dict[str, np.ndarray]) -> np.ndarray:
        p, qpos = self.params, f["qpos"]
        z, angle = qpos[:, 1], qpos[:, 2]
        min_z, max_z = p["healthy_z_range"]
        min_angle, max_angle = p["healthy_angle_range"]
        # every state value but root x and z (Gymnasium's state_vector()[2:]) in range
        state = np.concatenate((qpos, f["qvel"]), axis=1)[:, 2:]
        min_state, max_state = p["healthy_state_range"]
        healthy_state = np.all((min_state < state) & (state < max_state), axis=1)
        healthy_z = (min_z < z) & (z < max_z)
        return healthy_state & healthy_z & (min_angle < angle) & (angle < max_angle)
