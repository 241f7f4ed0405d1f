"""agentgym/Humanoid-v0: Gymnasium's Humanoid-v5, with a task to succeed at.

## Description
The 3D humanoid of Gymnasium's `Humanoid-v5` (torso, abdomen, two legs, two arms; 17
actuated joints) walks forward. The Gymnasium env runs inside this one unchanged
(observation, action, dynamics, reward, termination); agentgym adds a success criterion
and a named state for reward designers.

## Action space
`Box(-0.4, 0.4, (17,), float32)`: joint torques, in the order of `joint_pos`.

## Observation space
Gymnasium's: `Box(-inf, inf, (348,), float64)`: positions (22), velocities (23), body
inertias, body velocities, actuator forces and external contact forces.

## Reward state (`info["reward_state"]`)
| name | shape | units | meaning |
|---|---|---|---|
| `xy_position` | (2,) | m | torso x, y position |
| `forward_velocity` | () | m/s | centre-of-mass x velocity over the last step |
| `lateral_velocity` | () | m/s | centre-of-mass y velocity over the last step |
| `torso_height` | () | m | torso z coordinate (about 1.4 standing) |
| `torso_orientation` | (4,) | - | torso quaternion (w, x, y, z) |
| `torso_upright` | () | - | z component of the torso's up axis (1 upright, 0 lying) |
| `torso_velocity` | (6,) | m/s, rad/s | torso linear and angular velocity |
| `joint_pos` | (17,) | rad | joint angles (names in the TaskSpec) |
| `joint_vel` | (17,) | rad/s | joint angular velocities |
| `contact_forces` | (13, 6) | N, N m | external contact torque and force on each body |

## Rewards (the human reward, also `reward_designers/library/humanoid.py`)
Gymnasium's, by component: `survive` = 5 while healthy (1 < torso height < 2);
`forward` = 1.25 x forward velocity; `ctrl` = -0.1 |a|^2; `contact` =
-min(5e-7 |contact_forces|^2, 10).

## Success
The forward velocity averaged over the last 2 s of simulation (133 steps) is at least
1 m/s.

## Fitness
Forward progress: the root's x displacement (m) since reset (`info["fitness"]`).

## Episode end
Terminated when unhealthy (Gymnasium's rule); truncated after 1000 steps.

## Version history
- v0: first release (Gymnasium Humanoid-v5 inside).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.envs.robotics.locomotion import FORWARD_FITNESS, ForwardLocomotionTask, f32
from agentgym.spec import StateVar, TaskSpec

JOINTS = (
    "abdomen_z",
    "abdomen_y",
    "abdomen_x",
    "right_hip_x",
    "right_hip_z",
    "right_hip_y",
    "right_knee",
    "left_hip_x",
    "left_hip_z",
    "left_hip_y",
    "left_knee",
    "right_shoulder1",
    "right_shoulder2",
    "right_elbow",
    "left_shoulder1",
    "left_shoulder2",
    "left_elbow",
)
"""Humanoid joint order (qpos[7:], qvel[6:], the action)."""


def humanoid_state_vars(forward_meaning: str) -> tuple[StateVar, ...]:
    """The Humanoid's state variables, shared by the walking and the pose tasks."""
    return (
        StateVar("xy_position", (2,), "float32", "m", "torso x, y position"),
        StateVar("forward_velocity", (), "float32", "m/s", forward_meaning),
        StateVar(
            "lateral_velocity",
            (),
            "float32",
            "m/s",
            "centre-of-mass velocity along +y over the last step",
        ),
        StateVar("torso_height", (), "float32", "m", "torso z coordinate; about 1.4 standing"),
        StateVar(
            "torso_orientation", (4,), "float32", "-", "torso orientation quaternion (w, x, y, z)"
        ),
        StateVar(
            "torso_upright",
            (),
            "float32",
            "-",
            "z component of the torso's up axis: 1 upright, 0 lying, -1 upside down",
        ),
        StateVar(
            "torso_velocity",
            (6,),
            "float32",
            "m/s, rad/s",
            "torso linear (3) and angular (3) velocity",
        ),
        StateVar(
            "joint_pos", (17,), "float32", "rad", "joint angles in order: " + ", ".join(JOINTS)
        ),
        StateVar("joint_vel", (17,), "float32", "rad/s", "joint angular velocities, same order"),
        StateVar(
            "contact_forces",
            (13, 6),
            "float32",
            "N, N*m",
            "external contact torque (3) and force (3) on each of the 13 bodies",
        ),
    )


def humanoid_state(env: Any, info: dict[str, Any]) -> dict[str, np.ndarray]:
    """The Humanoid's reward_state from the inner Gymnasium env."""
    q, v = env.data.qpos, env.data.qvel
    torso_xmat = env.data.body("torso").xmat
    return {
        "xy_position": f32(q[:2]),
        "forward_velocity": f32(info["x_velocity"]),
        "lateral_velocity": f32(info["y_velocity"]),
        "torso_height": f32(q[2]),
        "torso_orientation": f32(q[3:7]),
        "torso_upright": f32(torso_xmat[8]),
        "torso_velocity": f32(v[:6]),
        "joint_pos": f32(q[7:]),
        "joint_vel": f32(v[6:]),
        "contact_forces": f32(env.data.cfrc_ext[1:]),
    }


class HumanoidEnv(ForwardLocomotionTask):
    gym_class = "gymnasium.envs.mujoco.humanoid_v5:HumanoidEnv"
    target_speed = 1.0
    task_spec = TaskSpec(
        name="Humanoid",
        instruction="Make the humanoid walk forward (along +x) without falling down.",
        success="The forward velocity averaged over the last 2 s is at least 1 m/s.",
        fitness=FORWARD_FITNESS,
        termination="failure",
        action_meaning="17 floats in [-0.4, 0.4]: joint torques, in the order of joint_pos.",
        family="robotics",
        tags=("locomotion", "walk", "biped", "humanoid", "mujoco", "forward"),
        state=humanoid_state_vars("centre-of-mass velocity along +x over the last step"),
    )

    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        return humanoid_state(self, info)
