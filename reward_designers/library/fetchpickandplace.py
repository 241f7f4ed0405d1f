"""Human reward for agentgym/FetchPickAndPlace-v0: Gymnasium-Robotics' dense reward, as a program
(minus the block-goal distance)."""

import torch


def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["object_pos"] - state["goal_pos"], dim=-1)
    return -distance, {"distance": -distance}
