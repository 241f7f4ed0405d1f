"""Gymnasium-Robotics' Fetch tasks, described (``agentgym.describe``) rather than wrapped
by hand: the state comes from the MuJoCo model (the gripper and object sites) and the goal
from the observation, success from the env's own ``is_success``. Registered only where
``gymnasium-robotics`` is installed (``pip install agentgym[robotics]``), on the dense
variant so that ``info["env_reward"]`` is the reward the library program reproduces."""

from __future__ import annotations

from typing import Any

COMMON: dict[str, Any] = {
    "success": "info:is_success",
    "action_meaning": "4 floats in [-1, 1]: gripper displacement in x, y, z (times 5 cm, by "
    "mocap) and the finger command (+1 opens, -1 closes).",
    "units": {"goal_pos": "m"},
    "meanings": {"goal_pos": "the target position (x, y, z) in the world frame"},
    "family": "manipulation",
    "robot": "Fetch",
    "trusted_rules": True,
}

OBJECT_STATE = [
    ["grip_pos", "site:robot0:grip"],
    ["grip_vel", "body_vel:robot0:gripper_link"],
    ["object_pos", "site:object0"],
    ["object_quat", "body_quat:object0"],
    ["object_vel", "body_vel:object0"],
    ["goal_pos", "obs:desired_goal"],
]

FETCH_TASKS: dict[str, dict[str, Any]] = {
    "agentgym/FetchReach-v0": {
        **COMMON,
        "base": "gymnasium_robotics:FetchReachDense-v4",
        "name": "FetchReach",
        "instruction": "Move the gripper of the Fetch arm to the target point in the air.",
        "success_description": "The gripper is within 0.05 m of the target (Gymnasium-Robotics' "
        "is_success).",
        "fitness": '-torch.linalg.vector_norm(state["grip_pos"] - state["goal_pos"], dim=-1)',
        "fitness_description": "minus the gripper-target distance at the episode's end (m)",
        "state": [
            ["grip_pos", "site:robot0:grip"],
            ["grip_vel", "body_vel:robot0:gripper_link"],
            ["goal_pos", "obs:desired_goal"],
            ["right_finger", "joint:robot0:r_gripper_finger_joint"],
            ["left_finger", "joint:robot0:l_gripper_finger_joint"],
        ],
        "tags": ["fetch", "reach", "arm", "goal", "position"],
    },
    "agentgym/FetchPush-v0": {
        **COMMON,
        "base": "gymnasium_robotics:FetchPushDense-v4",
        "name": "FetchPush",
        "instruction": "Push the block on the table to the target position with the Fetch "
        "arm's gripper (the gripper is kept closed).",
        "success_description": "The block is within 0.05 m of the target (Gymnasium-Robotics' "
        "is_success).",
        "fitness": '-torch.linalg.vector_norm(state["object_pos"] - state["goal_pos"], dim=-1)',
        "fitness_description": "minus the block-target distance at the episode's end (m)",
        "state": OBJECT_STATE,
        "tags": ["fetch", "push", "object", "goal", "table"],
    },
    "agentgym/FetchSlide-v0": {
        **COMMON,
        "base": "gymnasium_robotics:FetchSlideDense-v4",
        "name": "FetchSlide",
        "instruction": "Hit the puck so that it slides across the long table and stops at the "
        "target, which is out of the arm's reach.",
        "success_description": "The puck is within 0.05 m of the target (Gymnasium-Robotics' "
        "is_success).",
        "fitness": '-torch.linalg.vector_norm(state["object_pos"] - state["goal_pos"], dim=-1)',
        "fitness_description": "minus the puck-target distance at the episode's end (m)",
        "state": OBJECT_STATE,
        "tags": ["fetch", "slide", "push", "object", "goal", "table"],
    },
    "agentgym/FetchPickAndPlace-v0": {
        **COMMON,
        "base": "gymnasium_robotics:FetchPickAndPlaceDense-v4",
        "name": "FetchPickAndPlace",
        "instruction": "Grasp the block with the gripper and move it to the target position, "
        "which may be on the table or in the air.",
        "success_description": "The block is within 0.05 m of the target (Gymnasium-Robotics' "
        "is_success).",
        "fitness": '-torch.linalg.vector_norm(state["object_pos"] - state["goal_pos"], dim=-1)',
        "fitness_description": "minus the block-target distance at the episode's end (m)",
        "state": [
            *OBJECT_STATE,
            ["right_finger", "joint:robot0:r_gripper_finger_joint"],
            ["left_finger", "joint:robot0:l_gripper_finger_joint"],
        ],
        "tags": ["fetch", "pick", "place", "grasp", "lift", "object", "goal"],
    },
}
"""Each id's DescribedTask, as plain data (the registration's kwargs). Their fitness
expressions are agentgym's own code (``trusted_rules``), run in the env's process."""
