"""Human reward for agentgym/Humanoid-v0: Gymnasium Humanoid-v5's reward, as a program."""

import torch


def compute_reward(state, action):
    height = state["torso_height"]
    survive = ((height > 1.0) & (height < 2.0)).float() * 5.0
    forward = 1.25 * state["forward_velocity"]
    ctrl = -0.1 * torch.sum(action * action, dim=-1)
    contact = -torch.clamp(5e-7 * torch.sum(state["contact_forces"] ** 2, dim=(-2, -1)), max=10.0)
    total = survive + forward + ctrl + contact
    return total, {"survive": survive, "forward": forward, "ctrl": ctrl, "contact": contact}
