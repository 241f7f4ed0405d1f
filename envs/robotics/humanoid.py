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

## Vector env
`gym.make_vec("agentgym/Humanoid-v0", num_envs=N)` returns `HumanoidVectorEnv`: the N envs in one
object (N MjData stepped by MuJoCo on a thread pool), equal to a `SyncVectorEnv` of this env step by step
(`vectorization_mode="sync"` still gives that).

## Version history
- v0: first release (Gymnasium Humanoid-v5 inside).
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
    return humanoid_state_of(
        env.data.qpos,
        env.data.qvel,
        info["x_velocity"],
        info["y_velocity"],
        env.data.body("torso").xmat,
        env.data.cfrc_ext[1:],
    )


def humanoid_state_of(
    qpos: np.ndarray,
    qvel: np.ndarray,
    x_velocity: Any,
    y_velocity: Any,
    torso_xmat: np.ndarray,
    contact_forces: np.ndarray,
) -> dict[str, np.ndarray]:
    """The Humanoid's reward_state, for one env ([nq]) or a batch ([N, nq]):
    ``torso_xmat`` is the torso's rotation matrix ([..., 9]), ``contact_forces`` the
    ``cfrc_ext`` of every body but the world ([..., 13, 6])."""
    return {
        "xy_position": f32(qpos[..., :2]),
        "forward_velocity": f32(x_velocity),
        "lateral_velocity": f32(y_velocity),
        "torso_height": f32(qpos[..., 2]),
        "torso_orientation": f32(qpos[..., 3:7]),
        "torso_upright": f32(torso_xmat[..., 8]),
        "torso_velocity": f32(qvel[..., :6]),
        "joint_pos": f32(qpos[..., 7:]),
        "joint_vel": f32(qvel[..., 6:]),
        "contact_forces": f32(contact_forces),
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
        robot="Humanoid",
        tags=("locomotion", "walk", "biped", "humanoid", "mujoco", "forward"),
        state=humanoid_state_vars("centre-of-mass velocity along +x over the last step"),
    )

    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        return humanoid_state(self, info)


class HumanoidVectorEnv(LocomotionVectorEnv):
    """agentgym/Humanoid-v0, natively batched: ``gym.make_vec("agentgym/Humanoid-v0",
    num_envs=N)``. Equal to a ``SyncVectorEnv`` of ``HumanoidEnv`` step by step."""

    task_env = HumanoidEnv
    mjx_unsupported = "Humanoid's model uses the PGS solver, which MJX does not implement"
    fields = (
        "qpos",
        "qvel",
        "ctrl",
        "cinert",
        "cvel",
        "qfrc_actuator",
        "cfrc_ext",
        "xipos",
        "xmat",
    )

    def _position_of(self, f: dict[str, np.ndarray]) -> np.ndarray:
        # Gymnasium's mass_center, one row per sub-env
        mass = self.model.body_mass
        return np.einsum("b,nbj->nj", mass, f["xipos"])[:, :2] / mass.sum()

    def _observe(self, f: dict[str, np.ndarray]) -> np.ndarray:
        p, n = self.params, self.num_envs
        qpos = f["qpos"][:, 2:] if p["exclude_current_positions_from_observation"] else f["qpos"]
        parts = [qpos, f["qvel"]]
        for flag, name, skip in (
            ("include_cinert_in_observation", "cinert", 1),
            ("include_cvel_in_observation", "cvel", 1),
            ("include_qfrc_actuator_in_observation", "qfrc_actuator", 6),
            ("include_cfrc_ext_in_observation", "cfrc_ext", 1),
        ):
            if p[flag]:
                parts.append(f[name][:, skip:].reshape(n, -1))
        return np.concatenate(parts, axis=1)

    def _reward(self, actions, f, velocity):
        p, n = self.params, self.num_envs
        min_z, max_z = p["healthy_z_range"]
        z = f["qpos"][:, 2]
        healthy = (min_z < z) & (z < max_z)
        forward = p["forward_reward_weight"] * velocity[:, 0]
        healthy_reward = healthy * p["healthy_reward"]
        # Gymnasium's Humanoid charges the control it applied (data.ctrl), not the action
        ctrl_cost = control_cost(p["ctrl_cost_weight"], f["ctrl"])
        contact = np.sum(np.square(f["cfrc_ext"]).reshape(n, -1), axis=1)
        contact_cost = np.clip(p["contact_cost_weight"] * contact, *p["contact_cost_range"])
        reward = forward + healthy_reward - (ctrl_cost + contact_cost)
        terminated = ~healthy & bool(p["terminate_when_unhealthy"])
        terms = {
            "survive": healthy_reward,
            "forward": forward,
            "ctrl": -ctrl_cost,
            "contact": -contact_cost,
        }
        return reward, terms, terminated

    def _state(self, f: dict[str, np.ndarray], velocity: np.ndarray) -> dict[str, np.ndarray]:
        torso = self.model.body("torso").id
        return humanoid_state_of(
            f["qpos"],
            f["qvel"],
            velocity[:, 0],
            velocity[:, 1],
            f["xmat"][:, torso],
            f["cfrc_ext"][:, 1:],
        )
