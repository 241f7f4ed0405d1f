"""Human reward for agentgym/Hopper-v0: Gymnasium Hopper-v5's reward, as a program."""

import torch


def compute_reward(state, action):
    forward = 1.0 * state["forward_velocity"]
    ctrl = -1e-3 * torch.sum(action * action, dim=-1)
    # Healthy: torso high and upright, and no runaway state value (Gymnasium's rule).
    rest = torch.cat(
        [
            state["torso_angle"][:, None],
            state["joint_pos"],
            state["torso_velocity"],
            state["joint_vel"],
        ],
        dim=-1,
    )
    healthy = (
        torch.all((rest > -100.0) & (rest < 100.0), dim=-1)
        & (state["torso_height"] > 0.7)
        & (state["torso_angle"] > -0.2)
        & (state["torso_angle"] < 0.2)
    )
    survive = healthy.float() * 1.0
    return forward + ctrl + survive, {"forward": forward, "ctrl": ctrl, "survive": survive}
