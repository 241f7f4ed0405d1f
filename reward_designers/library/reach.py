"""Human reward for agentgym/Reach-v0: the env's own dense reward, as a program."""

import torch


def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    control = 0.01 * torch.sum(action * action, dim=-1)
    return -distance - control, {"distance": -distance, "control": -control}
