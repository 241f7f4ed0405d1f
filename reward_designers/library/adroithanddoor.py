"""Human reward for agentgym/AdroitHandDoor-v0: Gymnasium-Robotics' dense reward (v1), as a
program. Its first term, +0.1 x the palm-handle distance, grows as the palm moves away from
the handle: that is the env's reward as it is (fixed only in AdroitHandDoor-v2)."""

import torch


def compute_reward(state, action):
    angle = state["door_hinge"]
    reach = 0.1 * torch.linalg.vector_norm(state["palm_pos"] - state["handle_pos"], dim=-1)
    open_door = -0.1 * (angle - 1.57) ** 2
    velocity = -1e-5 * (state["qvel"] ** 2).sum(-1)
    bonus = 2.0 * (angle > 0.2) + 8.0 * (angle > 1.0) + 10.0 * (angle > 1.35)
    reward = reach + open_door + velocity + bonus
    return reward, {"reach": reach, "open": open_door, "velocity": velocity, "bonus": bonus}
