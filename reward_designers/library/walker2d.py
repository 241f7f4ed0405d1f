"""Human reward for agentgym/Walker2d-v0: Gymnasium Walker2d-v5's reward, as a program."""

import torch


def compute_reward(state, action):
    forward = 1.0 * state["forward_velocity"]
    ctrl = -1e-3 * torch.sum(action * action, dim=-1)
    height, angle = state["torso_height"], state["torso_angle"]
    healthy = (height > 0.8) & (height < 2.0) & (angle > -1.0) & (angle < 1.0)
    survive = healthy.float() * 1.0
    return forward + ctrl + survive, {"forward": forward, "ctrl": ctrl, "survive": survive}
