"""Gymnasium-Robotics' Adroit hand tasks (Door, Hammer, Pen, Relocate; ``AdroitHand*-v1``,
the dense reward), described (``agentgym.describe``): the hand, object and target state
come from the MuJoCo model, success from the env's own ``info["success"]``. Registered
only where ``gymnasium-robotics`` is installed.

The v1 rewards are those of gymnasium-robotics >= 1.2.1 (its warning at import says so):
Door and Relocate add ``+0.1 * |palm - handle|`` (``|palm - object|``), a term that grows
as the palm moves away; the library programs reproduce it as it is, since they must
equal the env's reward. No expert exists here: Adroit's experts are policies trained on
demonstrations that would have to be downloaded."""

from __future__ import annotations

from typing import Any

COMMON: dict[str, Any] = {
    "success": "info:success",
    "family": "manipulation",
    "robot": "Adroit Hand",
    "trusted_rules": True,
    "max_episode_steps": 200,
}

HAND = [
    ["palm_pos", "site:S_grasp"],
    ["ff_tip_pos", "site:S_fftip"],
    ["mf_tip_pos", "site:S_mftip"],
    ["rf_tip_pos", "site:S_rftip"],
    ["lf_tip_pos", "site:S_lftip"],
    ["th_tip_pos", "site:S_thtip"],
    ["qpos", "qpos"],
    ["qvel", "qvel"],
]


def _action(arm: str, n: int) -> str:
    return (
        f"{n} floats in [-1, 1], one per actuator ({arm}the wrist 2, the fingers 22): each is "
        "mapped linearly onto its actuator's control range, a position target for its joint."
    )


DISTANCE = "-torch.linalg.vector_norm(state[{a!r}] - state[{b!r}], dim=-1)"

ADROIT_TASKS: dict[str, dict[str, Any]] = {
    "agentgym/AdroitHandDoor-v0": {
        **COMMON,
        "base": "gymnasium_robotics:AdroitHandDoor-v1",
        "name": "AdroitHandDoor",
        "instruction": "With the Adroit hand on its arm, undo the door's latch by turning the "
        "handle and swing the door open.",
        "success_description": "The door's hinge angle is at least 1.35 rad (the env's "
        "info['success']).",
        "action_meaning": _action("the arm: 1 translation and 3 rotations, ", 28),
        "fitness": 'state["door_hinge"]',
        "fitness_description": "the door's hinge angle (rad) at the episode's end",
        "state": [
            *HAND,
            ["handle_pos", "site:S_handle"],
            ["door_hinge", "joint:door_hinge"],
            ["latch", "joint:latch"],
        ],
        "meanings": {"door_hinge": "opening angle of the door's hinge (0 closed)"},
        "tags": ["adroit", "dexterous", "door", "handle", "open", "articulated"],
    },
    "agentgym/AdroitHandHammer-v0": {
        **COMMON,
        "base": "gymnasium_robotics:AdroitHandHammer-v1",
        "name": "AdroitHandHammer",
        "instruction": "Pick up the hammer with the Adroit hand and drive the nail into the "
        "board with the hammer's head.",
        "success_description": "The nail's head is within 0.01 m of its fully driven position "
        "(the env's info['success']).",
        "action_meaning": _action("the arm: 2 rotations, ", 26),
        "fitness": DISTANCE.format(a="nail_pos", b="nail_goal_pos"),
        "fitness_description": "minus the distance (m) the nail still sticks out at the "
        "episode's end",
        "state": [
            *HAND,
            ["hammer_pos", "body:Object"],
            ["hammer_head_pos", "site:tool"],
            ["nail_pos", "site:S_target"],
            ["nail_goal_pos", "site:nail_goal"],
        ],
        "meanings": {
            "nail_pos": "position of the nail's head in the world frame",
            "nail_goal_pos": "where the nail's head is when fully driven in",
        },
        "tags": ["adroit", "dexterous", "hammer", "tool", "nail"],
    },
    "agentgym/AdroitHandPen-v0": {
        **COMMON,
        "base": "gymnasium_robotics:AdroitHandPen-v1",
        "name": "AdroitHandPen",
        "instruction": "Rotate the pen held in the Adroit hand (fixed wrist base) to the "
        "target orientation without dropping it.",
        "success_description": "The pen's centre is within 0.075 m of the target's and the "
        "cosine between the pen's and the target's axes exceeds 0.95 (the env's "
        "info['success']).",
        "action_meaning": _action("", 24),
        "fitness": "torch.nn.functional.cosine_similarity("
        'state["pen_top_pos"] - state["pen_bottom_pos"], '
        'state["target_top_pos"] - state["target_bottom_pos"], dim=-1)',
        "fitness_description": "the cosine between the pen's and the target's axes at the "
        "episode's end",
        "state": [
            *HAND,
            ["pen_pos", "body:Object"],
            ["pen_target_pos", "site:eps_ball"],
            ["pen_top_pos", "site:object_top"],
            ["pen_bottom_pos", "site:object_bottom"],
            ["target_top_pos", "site:target_top"],
            ["target_bottom_pos", "site:target_bottom"],
        ],
        "meanings": {"pen_target_pos": "where the pen's centre should be"},
        "tags": ["adroit", "dexterous", "in-hand", "rotation", "pen"],
    },
    "agentgym/AdroitHandRelocate-v0": {
        **COMMON,
        "base": "gymnasium_robotics:AdroitHandRelocate-v1",
        "name": "AdroitHandRelocate",
        "instruction": "Grasp the ball on the table with the Adroit hand and carry it to the "
        "target position in the air.",
        "success_description": "The ball is within 0.1 m of the target (the env's "
        "info['success']).",
        "action_meaning": _action("the arm: 3 translations and 3 rotations, ", 30),
        "fitness": DISTANCE.format(a="ball_pos", b="target_pos"),
        "fitness_description": "minus the ball-target distance (m) at the episode's end",
        "state": [*HAND, ["ball_pos", "body:Object"], ["target_pos", "site:target"]],
        "tags": ["adroit", "dexterous", "grasp", "relocate", "ball", "goal"],
    },
}
"""Each id's DescribedTask, as plain data (the registration's kwargs). Their fitness
expressions are agentgym's own code (``trusted_rules``), run in the env's process."""
