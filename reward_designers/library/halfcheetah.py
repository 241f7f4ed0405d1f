"""Human reward for agentgym/HalfCheetah-v0: Gymnasium HalfCheetah-v5's reward, as a program."""

import torch


def compute_reward(state, action):
    forward = 1.0 * state["forward_velocity"]
    ctrl = -0.1 * torch.sum(action * action, dim=-1)
    return forward + ctrl, {"forward": forward, "ctrl": ctrl}
