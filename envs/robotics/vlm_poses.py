"""agentgym/HumanoidKneel-v0, HumanoidSplits-v0, HumanoidLotus-v0: VLM-RM's humanoid pose
tasks. Instruction only: no dense reward; a CLIP reward scores rendered frames.

## Description
Gymnasium's `Humanoid-v5` with `terminate_when_unhealthy=False` (a kneeling or sitting
humanoid is "unhealthy" by Gymnasium's torso-height rule), asked in plain language to
take a pose, as in VLM-RM (Rocamonde et al., 2023, "Vision-Language Models are Zero-Shot
Reward Models for Reinforcement Learning"). The reward is meant to come from a
vision-language model looking at frames (`reward="clip:goal=...;baseline=..."`).

## Action space
`Box(-0.4, 0.4, (17,), float32)`: joint torques, as in agentgym/Humanoid-v0.

## Observation space
Gymnasium's `Box(-inf, inf, (348,), float64)`, as in agentgym/Humanoid-v0.

## Reward state (`info["reward_state"]`)
The same variables as agentgym/Humanoid-v0: `torso_height`, `torso_upright`,
`torso_orientation`, `joint_pos` (17 named joints), `joint_vel`, `contact_forces`, ...

## Rewards
None: the env reward is 0 at every step, with one component `zero` (0). There is no
human reward program in `reward_designers/library/` (the class flag
`dense_reward = False` says so).

## Success (a proxy)
VLM-RM judged these poses by people looking at videos. `info["success"]` is a
measurable **proxy** computed from the state at each step (joint indices in the order of
`joint_pos`; knee angles are negative when bent):
- Kneel: torso height in [0.7, 1.15] m, torso upright (`torso_upright` > 0.8), both
  knees bent beyond 1.2 rad.
- Splits: torso height <= 1.0 m, the two hip pitch angles (`right_hip_y`,
  `left_hip_y`) at least 1.2 rad apart, both knees nearly straight (> -0.4 rad).
- Lotus: torso height <= 0.75 m, torso upright (> 0.7), both knees bent beyond 1.8 rad
  and both hips flexed beyond 0.8 rad (sitting cross-legged).

## Episode end
Truncated after 1000 steps; never terminated.

## Version history
- v0: first release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from agentgym.envs.robotics.humanoid import JOINTS, humanoid_state, humanoid_state_vars
from agentgym.envs.robotics.locomotion import GymnasiumMujocoTask
from agentgym.spec import TaskSpec

RIGHT_HIP_Y, RIGHT_KNEE = JOINTS.index("right_hip_y"), JOINTS.index("right_knee")
LEFT_HIP_Y, LEFT_KNEE = JOINTS.index("left_hip_y"), JOINTS.index("left_knee")


def kneeling(state: Mapping[str, Any]) -> bool:
    """Proxy success of the kneel pose from one env's reward_state."""
    q = np.asarray(state["joint_pos"])
    return bool(
        0.7 <= float(state["torso_height"]) <= 1.15
        and float(state["torso_upright"]) > 0.8
        and q[RIGHT_KNEE] < -1.2
        and q[LEFT_KNEE] < -1.2
    )


def splits(state: Mapping[str, Any]) -> bool:
    """Proxy success of the splits pose from one env's reward_state."""
    q = np.asarray(state["joint_pos"])
    return bool(
        float(state["torso_height"]) <= 1.0
        and abs(q[RIGHT_HIP_Y] - q[LEFT_HIP_Y]) >= 1.2
        and q[RIGHT_KNEE] > -0.4
        and q[LEFT_KNEE] > -0.4
    )


def lotus(state: Mapping[str, Any]) -> bool:
    """Proxy success of the lotus (seated, cross-legged) pose from one env's reward_state."""
    q = np.asarray(state["joint_pos"])
    return bool(
        float(state["torso_height"]) <= 0.75
        and float(state["torso_upright"]) > 0.7
        and q[RIGHT_KNEE] < -1.8
        and q[LEFT_KNEE] < -1.8
        and q[RIGHT_HIP_Y] < -0.8
        and q[LEFT_HIP_Y] < -0.8
    )


def _spec(name: str, pose: str, success: str) -> TaskSpec:
    return TaskSpec(
        name=name,
        instruction=f"Make the humanoid robot {pose}.",
        success=success + " (a proxy computed from the state; VLM-RM judged the pose by eye)",
        action_meaning="17 floats in [-0.4, 0.4]: joint torques, in the order of joint_pos.",
        family="vlm",
        robot="Humanoid",
        tags=("humanoid", "pose", "vlm-rm", "mujoco", "instruction-only"),
        termination="never",
        state=humanoid_state_vars("centre-of-mass velocity along +x over the last step"),
    )


class HumanoidPoseEnv(GymnasiumMujocoTask):
    """A humanoid asked to hold a pose; no dense reward, a state-based proxy for success."""

    gym_class = "gymnasium.envs.mujoco.humanoid_v5:HumanoidEnv"
    gym_kwargs = {"terminate_when_unhealthy": False}
    dense_reward = False
    pose_success: ClassVar[Callable[[Mapping[str, Any]], bool]]

    def _state(self, info: dict[str, Any]) -> dict[str, np.ndarray]:
        return humanoid_state(self, info)

    def _success(self, state: dict[str, np.ndarray], info: dict[str, Any]) -> bool:
        return type(self).pose_success(state)

    def _step(self, action):
        obs, _, terminated, truncated, out = super()._step(action)
        # Instruction only: Gymnasium's walking reward is not this task's reward.
        out["env_reward_terms"] = {"zero": 0.0}
        return obs, 0.0, terminated, truncated, out


class HumanoidKneelEnv(HumanoidPoseEnv):
    __doc__ = __doc__
    pose_success = staticmethod(kneeling)
    task_spec = _spec(
        "HumanoidKneel",
        "kneel on the ground",
        "Torso height in [0.7, 1.15] m, torso upright, both knees bent beyond 1.2 rad",
    )


class HumanoidSplitsEnv(HumanoidPoseEnv):
    __doc__ = __doc__
    pose_success = staticmethod(splits)
    task_spec = _spec(
        "HumanoidSplits",
        "do the splits",
        "Torso height <= 1.0 m, hip pitch angles at least 1.2 rad apart, both knees straight",
    )


class HumanoidLotusEnv(HumanoidPoseEnv):
    __doc__ = __doc__
    pose_success = staticmethod(lotus)
    task_spec = _spec(
        "HumanoidLotus",
        "sit in the lotus position (seated, cross-legged)",
        "Torso height <= 0.75 m, torso upright, both knees bent beyond 1.8 rad, both hips flexed",
    )
