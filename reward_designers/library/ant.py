"""Human reward for agentgym/Ant-v0: Gymnasium Ant-v5's reward, as a program."""

import torch


def compute_reward(state, action):
    forward = 1.0 * state["forward_velocity"]
    ctrl = -0.5 * torch.sum(action * action, dim=-1)
    contact = -5e-4 * torch.sum(state["contact_forces"] ** 2, dim=(-2, -1))
    height = state["torso_height"]
    finite = torch.stack(
        [
            torch.isfinite(state[k]).flatten(1).all(dim=-1)
            for k in ("torso_orientation", "joint_pos", "torso_velocity", "joint_vel")
        ]
    ).all(dim=0)
    healthy = finite & torch.isfinite(height) & (height >= 0.2) & (height <= 1.0)
    survive = healthy.float() * 1.0
    total = forward + ctrl + contact + survive
    return total, {"forward": forward, "ctrl": ctrl, "contact": contact, "survive": survive}
