"""Human reward for agentgym/CartPole-v0: Gymnasium CartPole-v1's +1 per step, as a program."""

import torch


def compute_reward(state, action):
    alive = torch.ones_like(state["pole_angle"])
    return alive, {"alive": alive}
