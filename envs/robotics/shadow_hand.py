"""Gymnasium-Robotics' Shadow Dexterous Hand manipulations (Block, Egg, Pen: Eureka's
signature dexterity tasks), described (``agentgym.describe``): the object's and the hand's
state come from the MuJoCo model, the goal pose from the observation, success from the
env's own ``is_success``. Registered only where ``gymnasium-robotics`` is installed, on
the dense variant (``HandManipulate*Dense-v1``) so that ``info["env_reward"]`` is the
reward the library program reproduces."""

from __future__ import annotations

from typing import Any

QUAT = "state[{key!r}][:, {i}]"


def _axis_dot() -> str:
    """cos of the angle between the object's and the goal's local z axes (the pen's long
    axis), from the two quaternions (w, x, y, z) at pose indices 3..6; the z column of a
    unit quaternion's rotation matrix is (2(xz + wy), 2(yz - wx), 1 - 2(x^2 + y^2))."""

    def q(key: str, i: int) -> str:
        return QUAT.format(key=key, i=i)

    def axis(key: str) -> tuple[str, str, str]:
        w, x, y, z = (q(key, i) for i in (3, 4, 5, 6))
        return (
            f"2 * ({x} * {z} + {w} * {y})",
            f"2 * ({y} * {z} - {w} * {x})",
            f"(1 - 2 * ({x} ** 2 + {y} ** 2))",
        )

    a, b = axis("object_pose"), axis("goal_pose")
    return " + ".join(f"({ai}) * ({bi})" for ai, bi in zip(a, b, strict=True))


ROTATION_ANGLE = (
    '2 * torch.arccos(torch.clamp((state["object_pose"][:, 3:] * state["goal_pose"][:, 3:])'
    ".sum(-1), -1.0, 1.0))"
)
AXIS_ANGLE = f"torch.arccos(torch.clamp({_axis_dot()}, -1.0, 1.0))"

POSE_LAYOUT = "position (x, y, z) in m, then orientation quaternion (w, x, y, z)"

COMMON: dict[str, Any] = {
    "success": "info:is_success",
    "action_meaning": "20 floats in [-1, 1], one per actuator (wrist 2, first, middle and ring "
    "finger 3 each, little finger 4, thumb 5): each is mapped linearly onto its actuator's "
    "control range, an absolute position target for the joint it drives.",
    "meanings": {
        "object_pose": f"the object's pose in the world frame: {POSE_LAYOUT}",
        "goal_pose": f"the target pose of the object: {POSE_LAYOUT}",
    },
    "units": {"object_pose": "m, -", "goal_pose": "m, -"},
    "family": "manipulation",
    "robot": "Shadow Hand",
    "trusted_rules": True,
    "max_episode_steps": 100,
}

STATE = [
    ["object_pose", "joint:object:joint"],
    ["object_vel", "body_vel:object"],
    ["goal_pose", "obs:desired_goal"],
    ["palm_pos", "body:robot0:palm"],
    ["ff_tip_pos", "site:robot0:S_fftip"],
    ["mf_tip_pos", "site:robot0:S_mftip"],
    ["rf_tip_pos", "site:robot0:S_rftip"],
    ["lf_tip_pos", "site:robot0:S_lftip"],
    ["th_tip_pos", "site:robot0:S_thtip"],
    ["qpos", "qpos"],
]

SUCCESS_WORDS = (
    "The object is within {d} m of the target position and its orientation within 0.1 rad "
    "of the target's{z} (Gymnasium-Robotics' is_success)."
)

SHADOW_HAND_TASKS: dict[str, dict[str, Any]] = {
    "agentgym/HandManipulateBlock-v0": {
        **COMMON,
        "base": "gymnasium_robotics:HandManipulateBlockDense-v1",
        "name": "HandManipulateBlock",
        "instruction": "Rotate and move the block held in the Shadow Hand's palm to the target "
        "pose (a random position and a random orientation about all three axes).",
        "success_description": SUCCESS_WORDS.format(d=0.01, z=""),
        "fitness": f"-{ROTATION_ANGLE}",
        "fitness_description": "minus the angle (rad) between the block's and the target's "
        "orientation at the episode's end",
        "state": STATE,
        "tags": ["shadow hand", "dexterous", "in-hand", "rotation", "block", "goal"],
    },
    "agentgym/HandManipulateEgg-v0": {
        **COMMON,
        "base": "gymnasium_robotics:HandManipulateEggDense-v1",
        "name": "HandManipulateEgg",
        "instruction": "Rotate and move the egg held in the Shadow Hand's palm to the target "
        "pose (a random position and a random orientation about all three axes).",
        "success_description": SUCCESS_WORDS.format(d=0.01, z=""),
        "fitness": f"-{ROTATION_ANGLE}",
        "fitness_description": "minus the angle (rad) between the egg's and the target's "
        "orientation at the episode's end",
        "state": STATE,
        "tags": ["shadow hand", "dexterous", "in-hand", "rotation", "egg", "goal"],
    },
    "agentgym/HandManipulatePen-v0": {
        **COMMON,
        "base": "gymnasium_robotics:HandManipulatePenDense-v1",
        "name": "HandManipulatePen",
        "instruction": "Rotate the pen held in the Shadow Hand to the target orientation and "
        "bring it to the target position; the spin about the pen's own axis does not count.",
        "success_description": SUCCESS_WORDS.format(
            d=0.05, z=", ignoring the rotation about the z axis (xyz Euler angles)"
        ),
        "fitness": f"-{AXIS_ANGLE}",
        "fitness_description": "minus the angle (rad) between the pen's long axis and the "
        "target's at the episode's end",
        "state": [
            *STATE,
            ["pen_top_pos", "site:object:top"],
            ["pen_bottom_pos", "site:object:bottom"],
        ],
        "tags": ["shadow hand", "dexterous", "in-hand", "rotation", "pen", "goal"],
    },
}
"""Each id's DescribedTask, as plain data (the registration's kwargs). Their fitness
expressions are agentgym's own code (``trusted_rules``), run in the env's process."""
