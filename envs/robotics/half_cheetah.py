"""agentgym/HalfCheetah-v0: Gymnasium's HalfCheetah-v5, with a task to succeed at.

## Description
The planar cheetah of Gymnasium's `HalfCheetah-v5` (a torso and two legs of three links
each, 6 actuated joints) runs forward. The Gymnasium env runs inside this one unchanged
(observation, action, dynamics, reward); agentgym adds a success criterion and a named
state for reward designers.

## Action space
`Box(-1, 1, (6,), float32)`: torques of back thigh, back shin, back foot, front thigh,
front shin, front foot.

## Observation space
Gymnasium's: `Box(-inf, inf, (17,), float64)`, root z, root angle and the 6 joint angles
(8), then the 9 velocities.

## Reward state (`info["reward_state"]`)
| name | shape | units | meaning |
|---|---|---|---|
| `x_position` | () | m | torso x position |
| `forward_velocity` | () | m/s | torso x velocity over the last step |
| `torso_height` | () | m | root z coordinate |
| `torso_angle` | () | rad | torso pitch |
| `torso_velocity` | (3,) | m/s, rad/s | root x, z and pitch velocities |
| `joint_pos` | (6,) | rad | joint angles, in action order |
| `joint_vel` | (6,) | rad/s | joint angular velocities |

## Rewards (the human reward, also `reward_designers/library/halfcheetah.py`)
Gymnasium's, by component: `forward` = forward velocity; `ctrl` = -0.1 |a|^2.

## Success
The forward velocity averaged over the last 2 s of simulation (40 steps) is at least
3 m/s.

## Fitness
Forward progress: the root's x displacement (m) since reset (`info["fitness"]`).

## Episode end
Truncated after 1000 steps; never terminated.

## Vector env
`gym.make_vec("agentgym/HalfCheetah-v0", num_envs=N)` returns `HalfCheetahVectorEnv`: the N envs in one
object (N MjData stepped by MuJoCo on a thread pool), equal to a `SyncVectorEnv` of this env step by step
(`vectorization_mode="sync"` still gives that).

## Version history
- v0: first release (Gymnasium HalfCheetah-v5 inside).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.envs.robotics.locomotion import (
    FORWARD_FITNESS,
    ForwardLocomotionTask,
    LocomotionVectorEnv,
    control_cost,
    planar_observation,
    planar_state,
)
from agentgym.spec import StateVar, TaskSpec


class HalfCheetahEnv(ForwardLocomotionTask):
    gym_class = "gymnasium.envs.mujoco.half_cheetah_v5:HalfCheetahEnv"
    target_speed = 3.0
    task_spec = TaskSpec(
        name="HalfCheetah",
        instruction="Make the planar half-cheetah run forward (along +x) as fast as possible.",
        success="The forward velocity averaged over the last 2 s is at least 3 m/s.",
        fitness=FORWARD_FITNESS,
        termination="never",
        action_meaning="6 floats in [-1, 1]: torques of back thigh, shin, foot, front thigh, shin, foot.",
        family="robotics",
        robot="HalfCheetah",
        tags=("locomotion", "run", "planar", "mujoco", "forward"),
        state=(
            StateVar("x_position", (), "float32", "m", "torso x position"),
            StateVar(
                "forward_velocity",
                (),
                "float32",
                "m/s",
                "torso velocity along +x over the last step",
            ),
            StateVar("torso_height", (), "float32", "m", "torso (root) z coordinate"),
            StateVar("torso_angle", (), "float32", "rad", "torso pitch angle"),
            StateVar(
                "torso_velocity", (3,), "float32", "m/s, rad/s", "root x, z and pitch velocities"
            ),
            StateVar(
                "joint_pos",
                (6,),
                "float32",
                "rad",
                "joint angles: bthigh, bshin, bfoot, fthigh, fshin, ffoot",
            ),
            StateVar("joint_vel", (6,), "float32", "rad/s", "joint angular velocities, same order"),
        ),
    )

    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        return planar_state(self.data.qpos, self.data.qvel, info["x_velocity"])


class HalfCheetahVectorEnv(LocomotionVectorEnv):
    """agentgym/HalfCheetah-v0, natively batched: ``gym.make_vec("agentgym/HalfCheetah-v0",
    num_envs=N)``. Equal to a ``SyncVectorEnv`` of ``HalfCheetahEnv`` step by step."""

    task_env = HalfCheetahEnv
    velocity_noise = "normal"

    def _observe(self, f: dict[str, np.ndarray]) -> np.ndarray:
        return planar_observation(f, self.params, clip=False)

    def _reward(self, actions, f, velocity):
        p = self.params
        forward = p["forward_reward_weight"] * velocity[:, 0]
        ctrl_cost = control_cost(p["ctrl_cost_weight"], actions)
        reward = forward - ctrl_cost
        terminated = np.zeros(self.num_envs, dtype=bool)
        return reward, {"forward": forward, "ctrl": -ctrl_cost}, terminated

    def _state(self, f: dict[str, np.ndarray], velocity: np.ndarray) -> dict[str, np.ndarray]:
        return planar_state(f["qpos"], f["qvel"], velocity[:, 0])
